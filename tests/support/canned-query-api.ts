/**
 * An AWS Query-protocol API on loopback that answers each signed request with
 * what the test gives for it: for the answers the stand-ins (local/elb-api.ts,
 * local/ec2-api.ts) never give, such as a field AWS's API model lets out or a
 * refusal of the caller's permissions.
 */
import * as http from "http";
import { listenOnLoopback, QueryApiReply, queryApiListener } from "../../local/loopback-server";

export interface CannedQueryApi {
    /** `http://127.0.0.1:<port>`: the endpoint to give the SDK client. */
    endpoint: string;
    /** The Action of every request answered, in order. */
    actions: string[];
    stop(): Promise<void>;
}

/** Starts the API on 127.0.0.1; an unsigned request is refused, as AWS would, before `answer` sees it. */
export async function startCannedQueryApi(answer: (form: URLSearchParams) => QueryApiReply): Promise<CannedQueryApi> {
    const actions: string[] = [];
    const server = await listenOnLoopback(http.createServer(queryApiListener({
        contentType: "text/xml",
        unsigned: () => ({ status: 403, body: "<ErrorResponse><Error><Code>MissingAuthenticationToken</Code><Message>unsigned</Message></Error></ErrorResponse>" }),
        answer: async (form) => {
            actions.push(form.get("Action") ?? "");
            return answer(form);
        },
        failure: (error) => ({ status: 500, body: `<ErrorResponse><Error><Code>InternalFailure</Code><Message>${error.message}</Message></Error></ErrorResponse>` }),
    })));
    return { endpoint: server.url, actions, stop: server.stop };
}
