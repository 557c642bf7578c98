/**
 * How many items a connection returns: `first` defaults to this and is capped at the maximum. The subgraphs
 * page by it, and the router sizes an operation's cost by it, so both read it from here.
 */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
