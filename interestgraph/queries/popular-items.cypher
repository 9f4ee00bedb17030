// name: popular-items
// purpose: The most purchased items, overall or within one topic, with buyers and the summed
//   purchase weight (the popularity baseline recommendations are compared with).
// param: topic_id string null  Only items with this topic (default: all items).
// param: limit integer 20  How many items.
// example: interestgraph query popular-items -p topic_id 73 -p limit 10
MATCH (i:Item)
WHERE $topic_id IS NULL OR EXISTS { (i)-[:HAS_TOPIC]->(:Topic {topic_id: $topic_id}) }
CALL (i) {
  MATCH (i)<-[p:PURCHASED]-()
  RETURN count(p) AS buyers, sum(p.weight) AS weight
}
RETURN i.item_id AS item_id, i.title AS title, buyers, weight
ORDER BY buyers DESC, weight DESC, item_id
LIMIT $limit
