/**
 * The layering of src/ (docs/architecture.md, "Layers"), checked by `npm run deps:check` in `npm test`.
 * Type-only imports count: a layer that names another's types depends on it.
 */

/** The transports: each drives sessions through base/stream.ts alone (a WebSocket transport joins this list). */
const TRANSPORTS = ['bosh'];

/** Folders of src/ that sit above the transports: a transport reaches none of them. */
const ABOVE_TRANSPORT = ['xmpp', 'routing', 'store', 'cluster', 'events', 'components', 'metrics', 'web', 'tools', 'api', 'webhooks'];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A module must not reach itself through its imports: split the shared part into its own file, lower down.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment:
        'Layers point one way: no folder of src/ may reach itself through another folder. Move what both need down (often into base/), or pass an interface in.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'base-is-the-bottom',
      comment: 'base/ (JID, stanza and stream errors, namespaces, the stream seam) is what every layer may import; it imports only the XML toolkit.',
      severity: 'error',
      from: { path: '^src/base/' },
      to: { path: '^src/', pathNot: '^src/(base|xml)/' },
    },
    {
      name: 'xml-stands-alone',
      comment: 'xml/ (parser, serialiser, clone) is a toolkit beneath base/: it imports nothing from src/.',
      severity: 'error',
      from: { path: '^src/xml/' },
      to: { path: '^src/', pathNot: '^src/xml/' },
    },
    {
      name: 'transport-knows-streams-only',
      comment:
        'A transport (bosh/) knows streams of elements (base/stream.ts), not XMPP sessions, routing, stores or the cluster: another transport must be able to sit beside it.',
      severity: 'error',
      from: { path: `^src/(${TRANSPORTS.join('|')})/` },
      to: { path: `^src/(${ABOVE_TRANSPORT.join('|')})/` },
    },
    {
      name: 'routing-below-xmpp',
      comment: 'routing/ delivers stanzas; the XMPP session and its services (xmpp/) use it, never the other way round.',
      severity: 'error',
      from: { path: '^src/routing/' },
      to: { path: '^src/(xmpp|cluster|bosh|metrics|webhooks)/' },
    },
    {
      name: 'store-below-the-protocol',
      comment: 'store/ keeps data behind interfaces; it knows nothing of sessions, routing, transports or the cluster.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/(xmpp|routing|cluster|bosh|events|components|metrics|webhooks)/' },
    },
    {
      name: 'muc-is-a-service-on-top',
      comment:
        'muc/ (XEP-0045 rooms) is a component wired in app.ts: it uses components/, routing/, store/, events/ and archive/; none of the layers below it, nor the archive, imports it.',
      severity: 'error',
      from: { path: '^src/(xml|base|observability|limits|safety|bosh|config|redis|store|events|components|routing|xmpp|cluster|archive)(/|\\.ts$)' },
      to: { path: '^src/muc/' },
    },
    {
      name: 'metrics-only-from-the-root',
      comment: "metrics/ implements every layer's observer interface; layers declare the interface and never import the implementation.",
      severity: 'error',
      from: { path: '^src/[^/]+/' },
      to: { path: '^src/metrics/' },
    },
    {
      name: 'api-only-from-the-root',
      comment:
        'api/ (the business REST API) drives the node from outside, like a client: only the wiring mounts it. A layer that needs something of it (SASL accepting login tokens) declares an interface that api/ implements.',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: '^src/api/' },
      to: { path: '^src/api/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
