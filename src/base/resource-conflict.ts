/** RFC 6120 §7.7.2.2: what happens when a client binds a resource already in use. */
export type ResourceConflictPolicy = 'replace' | 'override' | 'refuse';
