"""Everything Whoosh: schema, index, the single writer, queries, facets,
highlights and spelling. No Flask imports: plain arguments in, ids out.
Whoosh's private parts are touched in whoosh_internals.py only."""
