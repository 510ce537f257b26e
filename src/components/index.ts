export type { Component, ComponentOutlet } from './component';
export { ComponentRegistry, type OutletFactory } from './component-registry';
