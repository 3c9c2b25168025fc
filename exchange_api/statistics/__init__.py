"""Statistics over alerts' routing facts, the penal-chain funnel and the early warning of
uncatalogued substances (docs/contract.md, "Statistics").

``endpoints`` parses, ``service`` holds the rules (scope, suppression, thresholds, audit),
``repository`` the grouped SQL. Counting happens in the database; Python only sorts the cells
it gets back and leaves out the ones the network scope must not publish.
"""
