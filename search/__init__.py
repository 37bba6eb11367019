"""Everything Whoosh: schema, index, the single writer, queries, facets,
highlights and spelling. No Flask imports: plain arguments in, ids out."""
