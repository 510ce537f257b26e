export { EventHub, type EventHandler, type EventHubObserver, type EventHubOptions, type EventLogger, type GatewayEventHub } from './event-hub';
export type {
  EventName,
  EventOrigin,
  GatewayEvents,
  GroupMemberChange,
  GroupMemberChangeReason,
  GroupMessage,
  MessageBounced,
  MessageRouted,
  MessageStored,
  PresenceChanged,
  RosterChanged,
  RosterItemFacts,
  SessionEnded,
  SessionEndReason,
  SessionStarted,
  StanzaFacts,
} from './events';
