// name: trending-topics
// purpose: Topics gaining activity in a time window [from, to) against the window of the same
//   length just before it. Activity = dated purchases of items with the topic + new follows of
//   the topic (tagging, in Last.fm).
// param: from string required  Window start, ISO date or datetime (e.g. 2010-01-01).
// param: to string required  Window end, exclusive (e.g. 2011-01-01).
// param: min_events integer 5  Least activity inside the window.
// param: limit integer 20  How many topics.
// example: interestgraph query trending-topics -p from 2010-01-01 -p to 2011-01-01
WITH datetime($from) AS t0, datetime($to) AS t1
WITH t0, t1, t0 - duration.between(t0, t1) AS p0
CALL (t0, t1, p0) {
  MATCH (:User)-[f:FOLLOWS]->(t:Topic)
  WHERE p0 <= f.ts < t1
  RETURN t, f.ts >= t0 AS inside
  UNION ALL
  MATCH (:User)-[p:PURCHASED]->(:Item)-[:HAS_TOPIC]->(t:Topic)
  WHERE p0 <= p.ts < t1
  RETURN t, p.ts >= t0 AS inside
}
WITH t, sum(CASE WHEN inside THEN 1 ELSE 0 END) AS events,
     sum(CASE WHEN inside THEN 0 ELSE 1 END) AS previous
WHERE events >= $min_events
RETURN t.topic_id AS topic_id, t.name AS topic, events, previous AS previous_events,
       events - previous AS growth,
       round(toFloat(events + 1) / (previous + 1), 3) AS ratio
ORDER BY growth DESC, events DESC, topic_id
LIMIT $limit
