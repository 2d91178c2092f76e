class Doc implements Namespace {
  related: { a: Doc[]; b: Doc[]; c: Doc[] }
  permits = {
    p: (ctx) => this.related.a.includes(ctx.subject) || this.related.b.includes(ctx.subject) && !(this.related.c.includes(ctx.subject) || this.permits.q(ctx)),
    q: (ctx) => ((this.related.a.includes(ctx.subject))) this.related.b.includes(ctx.subject),
  }
}
