class Doc implements Namespace {
  related: { r: (Nope | SubjectSet<Doc, "x">)[] }
  permits = { v: (ctx) => this.related.r.traverse(d => d.permits.w(ctx)) }
}
