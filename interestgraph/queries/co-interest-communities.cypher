// name: co-interest-communities
// purpose: Interest groups, not a community-detection algorithm: users grouped by their
//   strongest inferred interest (rank 1, current run), with how tightly the group's
//   CO_INTEREST edges stay inside it (cohesion = internal co-interest edges / all co-interest
//   edges of the members). For communities found by Louvain see the query `communities`.
// param: min_size integer 5  Smallest community reported.
// param: limit integer 20  How many communities (largest first).
// example: interestgraph query co-interest-communities -p min_size 10
// note: Needs a written-back run (INTERESTED_IN / CO_INTEREST of the current run).
MATCH (r:ModelRun {current: true})
MATCH (u:User)-[:INTERESTED_IN {run_id: r.run_id, rank: 1}]->(t:Topic)
WITH r, t, collect(u) AS members
WHERE size(members) >= $min_size
CALL (r, members) {
  UNWIND members AS m
  MATCH (m)-[:CO_INTEREST {run_id: r.run_id}]->(v:User)
  RETURN count(*) AS links, sum(CASE WHEN v IN members THEN 1 ELSE 0 END) AS internal
}
RETURN t.topic_id AS topic_id, t.name AS topic, size(members) AS members,
       internal AS internal_links, links AS all_links,
       round(toFloat(internal) / CASE WHEN links = 0 THEN 1 ELSE links END, 4) AS cohesion,
       [m IN members[..5] | m.user_id] AS sample_members
ORDER BY members DESC, topic_id
LIMIT $limit
