// name: influential-users
// purpose: The most influential users of the follow graph by PageRank (Graph Data Science):
//   a user scores high when users who score high follow them. With article_rank true,
//   ArticleRank instead, which discounts the influence of users who follow very many.
// param: limit integer 20  How many users (highest score first).
// param: damping float 0.85  Damping factor (probability of following an edge).
// param: article_rank boolean false  Use ArticleRank instead of PageRank.
// example: interestgraph query influential-users -p limit 10
// note: Needs the Graph Data Science library (on by default in the managed server). Projects
//   User-FOLLOWS->User (directed) into GDS's memory under a name made for this call and drops
//   it after use. Scores are GDS's unnormalised ones (a user nobody follows scores
//   1 - damping).
CALL () {
  MATCH (u:User)-[:FOLLOWS]->(v:User)
  RETURN gds.graph.project('interestgraph-influence-' + randomUUID(), u, v) AS g
}
WITH g WHERE g IS NOT NULL  // nothing to project: no rows, no graph left behind
CALL (g) {
  CALL (g) {
    WITH g WHERE NOT $article_rank
    CALL gds.pageRank.stream(g.graphName, {dampingFactor: $damping, concurrency: 4})
         YIELD nodeId, score
    RETURN nodeId, score
    UNION
    WITH g WHERE $article_rank
    CALL gds.articleRank.stream(g.graphName, {dampingFactor: $damping, concurrency: 4})
         YIELD nodeId, score
    RETURN nodeId, score
  }
  WITH nodeId, score
  ORDER BY score DESC, nodeId
  LIMIT $limit
  RETURN collect({nodeId: nodeId, score: score}) AS top
}
CALL gds.graph.drop(g.graphName, false) YIELD graphName
UNWIND range(0, size(top) - 1) AS i
WITH i + 1 AS rank, gds.util.asNode(top[i].nodeId) AS u, top[i].score AS score
RETURN rank, u.user_id AS user_id, round(score, 6) AS score,
       COUNT { (u)<-[:FOLLOWS]-(:User) } AS followers,
       COUNT { (u)-[:FOLLOWS]->(:User) } AS follows,
       COUNT { (u)-[:PURCHASED]->(:Item) } AS purchases
ORDER BY rank
