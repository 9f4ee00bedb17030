// name: customer-segments
// purpose: Customer segments by interest and activity: users grouped by their strongest
//   inferred interest (current run) and purchase tier (light < light_below <= regular <
//   heavy_from <= heavy purchases), with segment size, share of users and mean purchases
//   and follows.
// param: light_below integer 10  Users with fewer purchases are 'light'.
// param: heavy_from integer 50  Users with at least this many purchases are 'heavy'.
// param: min_users integer 5  Smallest segment reported.
// param: limit integer 30  How many segments (largest first).
// example: interestgraph query customer-segments -p min_users 20
MATCH (r:ModelRun {current: true})
MATCH (u:User)-[:INTERESTED_IN {run_id: r.run_id, rank: 1}]->(t:Topic)
WITH t, u, COUNT { (u)-[:PURCHASED]->() } AS purchases, COUNT { (u)-[:FOLLOWS]->() } AS follows
WITH t, CASE WHEN purchases < $light_below THEN 'light'
             WHEN purchases < $heavy_from THEN 'regular'
             ELSE 'heavy' END AS tier,
     count(u) AS users, avg(purchases) AS mean_purchases, avg(follows) AS mean_follows
WHERE users >= $min_users
CALL () { MATCH (u:User) RETURN count(u) AS all_users }
RETURN t.topic_id AS topic_id, t.name AS interest, tier, users,
       round(toFloat(users) / all_users, 4) AS share, round(mean_purchases, 1) AS mean_purchases,
       round(mean_follows, 1) AS mean_follows
ORDER BY users DESC, topic_id, tier
LIMIT $limit
