/**
 * What the component's dynamic providers share, plain functions with no free
 * variables, so each serializes with the provider that references it.
 */

/** Whether any input differs between two states, the serialized provider (`__provider`) aside. */
export function inputsChanged(olds: object, news: object): boolean {
    const [before, after] = [olds as Record<string, unknown>, news as Record<string, unknown>];
    const keys = new Set([...Object.keys(before), ...Object.keys(after)].filter((key) => key !== "__provider"));
    return [...keys].some((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}
