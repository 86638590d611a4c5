// The part of autocannon's API the benchmarks use (the package ships no types, and @types/autocannon is not a
// dependency).
declare module 'autocannon' {
  interface AutocannonRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string> | undefined;
    body?: string | undefined;
  }
  interface AutocannonClient {
    on(event: 'response', listener: (status: number, bytes: number, responseTime: number) => void): void;
  }
  interface AutocannonOptions {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    requests?: AutocannonRequest[];
    setupClient?: (client: AutocannonClient) => void;
  }
  interface AutocannonResult {
    requests: { total: number; average: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  }
  function autocannon(options: AutocannonOptions): Promise<AutocannonResult>;
  export default autocannon;
}
