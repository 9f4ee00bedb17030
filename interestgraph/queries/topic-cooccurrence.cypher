// name: topic-cooccurrence
// purpose: Topics that co-occur with a topic on the same items, with the number of shared
//   items and the Jaccard index of the two topics' item sets.
// param: topic_id string required  The topic's business key.
// param: min_items integer 2  Least shared items.
// param: limit integer 20  How many topics.
// example: interestgraph query topic-cooccurrence -p topic_id 73
MATCH (t:Topic {topic_id: $topic_id})<-[:HAS_TOPIC]-(i:Item)-[:HAS_TOPIC]->(o:Topic)
WHERE o <> t
WITH t, o, count(DISTINCT i) AS together
WHERE together >= $min_items
WITH t, o, together, COUNT { (t)<-[:HAS_TOPIC]-() } AS n_t, COUNT { (o)<-[:HAS_TOPIC]-() } AS n_o
RETURN o.topic_id AS topic_id, o.name AS topic, together AS items_together, n_o AS topic_items,
       round(toFloat(together) / (n_t + n_o - together), 4) AS jaccard
ORDER BY items_together DESC, jaccard DESC, topic_id
LIMIT $limit
