/** A User or Product as the orders subgraph knows it: only its key; its owner resolves the rest. */
export interface EntityReference {
  id: string;
}
