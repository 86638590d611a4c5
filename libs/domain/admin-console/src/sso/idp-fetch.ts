import type { GuardedFetcher } from '@keyhaven/outbound';

/** What openid-client hands its `customFetch` (a subset of `fetch`'s options; it always asks for manual redirects). */
interface IdpFetchOptions {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  readonly signal?: AbortSignal;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT']);

/**
 * Every call openid-client makes to an organization's IdP (discovery, JWKS, token, userinfo) goes
 * through the guarded fetch, so the address policy applies: an admin cannot point the server at
 * loopback, private or cloud-metadata addresses unless the operator opened them
 * (`OUTBOUND_ALLOW_NETWORKS`). Redirects are not followed (openid-client asks for `manual`).
 */
export function idpFetch(fetcher: GuardedFetcher) {
  return async (url: string, options: IdpFetchOptions): Promise<Response> => {
    const method = options.method.toUpperCase();
    if (!METHODS.has(method)) throw new TypeError(`method ${method} is not used towards an IdP`);
    const body =
      options.body === undefined || options.body === null
        ? undefined
        : options.body instanceof URLSearchParams
          ? options.body.toString()
          : typeof options.body === 'string'
            ? options.body
            : undefined;
    const answer = await fetcher.fetch(url, {
      method: method as 'GET' | 'HEAD' | 'POST' | 'PUT',
      headers: options.headers,
      ...(body === undefined ? {} : { body }),
      maxRedirects: 0,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
    }
    const empty = answer.status === 204 || answer.status === 304 || method === 'HEAD';
    return new Response(empty ? null : new Uint8Array(answer.body), { status: answer.status, headers });
  };
}
