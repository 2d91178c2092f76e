class Doc implements Namespace {
  permits = { v: (ctx) => !(!(this.related.r.traverse((x) => q.related.x.includes(ctx.subject)
