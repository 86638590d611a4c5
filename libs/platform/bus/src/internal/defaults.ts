// Shared by both adapters so all-in-one and distributed mode behave the same out of the box.
export const DEFAULT_DELIVERY_LIMIT = 5;
export const DEFAULT_PREFETCH = 10;
export const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;
