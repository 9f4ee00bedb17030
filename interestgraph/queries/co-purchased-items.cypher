// name: co-purchased-items
// purpose: Items bought by the same users as one item, by Node Similarity (Graph Data Science):
//   the Jaccard similarity of the two items' sets of buyers, with the number of buyers they
//   share. Computed from the purchases alone (no model run needed).
// param: item_id string required  The item's business key.
// param: k integer 10  How many items.
// param: min_common integer 1  Fewest shared buyers for a pair to count.
// example: interestgraph query co-purchased-items -p item_id 289 -p k 5
// note: Needs the Graph Data Science library (on by default in the managed server). Projects
//   all purchases (Item -> buyer) into GDS's memory under a name made for this call and drops
//   it after use, so its cost grows with the number of purchases.
MATCH (item:Item {item_id: $item_id})
CALL () {
  MATCH (u:User)-[:PURCHASED]->(i:Item)
  RETURN gds.graph.project('interestgraph-copurchase-' + randomUUID(), i, u,
                           {sourceNodeLabels: 'Item', targetNodeLabels: 'User'}) AS g
}
WITH item, g WHERE g IS NOT NULL  // nothing to project: no rows, no graph left behind
CALL (g, item) {
  CALL gds.nodeSimilarity.filtered.stream(g.graphName, {
         sourceNodeFilter: [item], topK: $k, degreeCutoff: 1,
         similarityCutoff: 0.0, concurrency: 4})
       YIELD node1, node2, similarity
  RETURN collect({node: node2, similarity: similarity}) AS similar
}
CALL gds.graph.drop(g.graphName, false) YIELD graphName
UNWIND similar AS s
WITH item, gds.util.asNode(s.node) AS other, s.similarity AS similarity
WITH item, other, similarity,
     COUNT { (item)<-[:PURCHASED]-(:User)-[:PURCHASED]->(other) } AS common
WHERE common >= $min_common
RETURN other.item_id AS item_id, other.title AS title, round(similarity, 4) AS similarity,
       common AS common_buyers
ORDER BY similarity DESC, item_id
LIMIT $k
