/**
 * A file's inline contents in an Ignition config, as lib/ignition.ts writes
 * them (a `data:` URL, percent-encoded or base64, gzipped or not): read back
 * to text, and written again in the same form. For the harness, which puts
 * its own values in place of the mocks', and for tests that read user data.
 */
import { gunzipSync, gzipSync } from "zlib";

/** A file's inline contents in an Ignition config: a `data:` URL, base64 or percent-encoded, gzipped or not. */
export interface InlineContents {
    source: string;
    compression?: string;
}

/** The text of inline contents. */
export function decodeInlineContents({ source, compression }: InlineContents): string {
    const match = /^data:([^,]*),(.*)$/s.exec(source);
    if (!match) {
        throw new Error(`a file's source is not an inline data: URL (${source.slice(0, 40)})`);
    }
    if (compression !== undefined && compression !== "gzip") {
        throw new Error(`compression ${compression} is not one Ignition 3.3 reads`);
    }
    const base64 = match[1].split(";").includes("base64");
    const bytes = base64 ? Buffer.from(match[2], "base64") : Buffer.from(decodeURIComponent(match[2]), "utf8");
    return (compression === "gzip" ? gunzipSync(bytes) : bytes).toString("utf8");
}

/** `text` encoded the way `like` was: the same data: URL form and compression. */
export function encodeInlineContentsLike(like: InlineContents, text: string): InlineContents {
    const bytes = like.compression === "gzip" ? gzipSync(Buffer.from(text, "utf8"), { level: 9 }) : Buffer.from(text, "utf8");
    const header = /^data:([^,]*),/.exec(like.source)![1];
    const source = header.split(";").includes("base64") ? `data:${header},${bytes.toString("base64")}` : `data:${header},${encodeURIComponent(text)}`;
    return like.compression ? { source, compression: like.compression } : { source };
}

/**
 * The config inside user data that `compressedConfig` (lib/ignition.ts)
 * wrote: a config whose only content replaces it with a gzipped `data:` URL.
 * Undefined for a config that carries its contents itself.
 */
export function compressedConfigContents(userData: string): string | undefined {
    const replace = JSON.parse(userData).ignition?.config?.replace as InlineContents | undefined;
    return replace === undefined ? undefined : decodeInlineContents(replace);
}
