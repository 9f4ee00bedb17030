// name: items-without-topics
// purpose: Items with no HAS_TOPIC edge (invisible to topic filters and topic-based reasons),
//   most purchased first: the catalogue-enrichment to-do list.
// param: limit integer 50  How many items.
// example: interestgraph query items-without-topics -p limit 20
MATCH (i:Item)
WHERE NOT EXISTS { (i)-[:HAS_TOPIC]->() }
RETURN i.item_id AS item_id, i.title AS title, COUNT { (i)<-[:PURCHASED]-() } AS buyers,
       i.text_embedding IS NOT NULL AS has_text_embedding
ORDER BY buyers DESC, item_id
LIMIT $limit
