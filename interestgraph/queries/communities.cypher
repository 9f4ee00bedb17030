// name: communities
// purpose: Communities of users found by Louvain modularity optimisation (Graph Data Science)
//   over the user-user graph, undirected: the follow graph (source "follows") or the
//   CO_INTEREST edges of the current run (source "co-interest"). Each community with its size,
//   its share of the projected users, sample members and the items its members bought most.
// param: source string "follows"  Which edges: "follows" or "co-interest".
// param: min_size integer 2  Smallest community reported.
// param: limit integer 20  How many communities (largest first).
// param: top_items integer 5  Most-bought items listed per community.
// example: interestgraph query communities -p min_size 10 -p limit 5
// note: Needs the Graph Data Science library (on by default in the managed server). Projects
//   the chosen edges into GDS's memory under a name made for this call and drops it after
//   use; only users with at least one such edge are projected (projected_users).
CALL () {
  OPTIONAL MATCH (r:ModelRun {current: true})
  MATCH (u:User)-[e:FOLLOWS|CO_INTEREST]->(v:User)
  WHERE ($source = 'follows' AND type(e) = 'FOLLOWS')
     OR ($source = 'co-interest' AND type(e) = 'CO_INTEREST' AND e.run_id = r.run_id)
  RETURN gds.graph.project('interestgraph-communities-' + randomUUID(), u, v, {},
                           {undirectedRelationshipTypes: ['*']}) AS g
}
WITH g WHERE g IS NOT NULL  // nothing to project: no rows, no graph left behind
CALL (g) {
  CALL gds.louvain.stream(g.graphName, {concurrency: 4}) YIELD nodeId, communityId
  WITH communityId, collect(nodeId) AS ids
  RETURN collect({community: communityId, ids: ids}) AS found
}
CALL gds.graph.drop(g.graphName, false) YIELD graphName
WITH g.nodeCount AS projected, found
UNWIND found AS c
WITH projected, c.community AS community, c.ids AS ids
WHERE size(ids) >= $min_size
ORDER BY size(ids) DESC, community
LIMIT $limit
CALL (ids) {
  UNWIND gds.util.asNodes(ids) AS m
  MATCH (m)-[:PURCHASED]->(i:Item)
  WITH i, count(*) AS buyers
  ORDER BY buyers DESC, i.item_id
  LIMIT $top_items
  RETURN collect(coalesce(i.title, i.item_id) + ' (' + buyers + ')') AS top_items
}
RETURN community, size(ids) AS members, projected AS projected_users,
       round(toFloat(size(ids)) / projected, 4) AS share,
       [m IN gds.util.asNodes(ids[..5]) | m.user_id] AS sample_members, top_items
