import { EventHub, type EventHubObserver } from '../../src/events';

interface TestEvents {
  said: { readonly text: string };
  other: { readonly n: number };
}

interface LoggedError {
  readonly event: string;
  readonly message: string;
}

function recordingLogger(): { logger: { error: (obj: object, message: string) => void }; errors: LoggedError[] } {
  const errors: LoggedError[] = [];
  return {
    errors,
    logger: {
      error: (obj: object, message: string) => {
        errors.push({ event: (obj as { event: string }).event, message });
      },
    },
  };
}

function countingObserver(): EventHubObserver & { failures: string[] } {
  const failures: string[] = [];
  return { failures, subscriberFailed: (event) => failures.push(event) };
}

/** One turn of the event loop: every microtask queued before it (the hub's deliveries) has run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function hub(): { events: EventHub<TestEvents>; errors: LoggedError[]; observer: ReturnType<typeof countingObserver> } {
  const { logger, errors } = recordingLogger();
  const observer = countingObserver();
  return { events: new EventHub<TestEvents>({ logger, observer }), errors, observer };
}

describe('the event hub tells every subscriber', () => {
  it('hands each emission to every subscriber of that event, in subscription order, and to no other event', async () => {
    const { events } = hub();
    const heard: string[] = [];
    events.on('said', (p) => void heard.push(`first ${p.text}`));
    events.on('said', (p) => void heard.push(`second ${p.text}`));
    events.on('other', () => void heard.push('other'));
    events.emit('said', { text: 'hello' });
    await turn();
    expect(heard).toEqual(['first hello', 'second hello']);
  });

  it('keeps the order of emissions for each subscriber', async () => {
    const { events } = hub();
    const heard: string[] = [];
    events.on('said', (p) => void heard.push(p.text));
    for (const text of ['a', 'b', 'c', 'd']) events.emit('said', { text });
    await turn();
    expect(heard).toEqual(['a', 'b', 'c', 'd']);
  });

  it('runs subscribers after the emitting code has moved on, not inside emit', async () => {
    const { events } = hub();
    const order: string[] = [];
    events.on('said', () => void order.push('subscriber'));
    events.emit('said', { text: 'x' });
    order.push('emitter continues');
    await turn();
    expect(order).toEqual(['emitter continues', 'subscriber']);
  });

  it('stops telling a subscriber that unsubscribed', async () => {
    const { events } = hub();
    const heard: string[] = [];
    const off = events.on('said', (p) => void heard.push(p.text));
    events.emit('said', { text: 'before' });
    await turn();
    off();
    events.emit('said', { text: 'after' });
    await turn();
    expect(heard).toEqual(['before']);
    expect(events.has('said')).toBe(false);
  });

  it('gives subscribers a frozen payload, so one cannot change what the next sees', async () => {
    const { events, errors } = hub();
    const seen: string[] = [];
    events.on('said', (p) => {
      (p as { text: string }).text = 'tampered';
    });
    events.on('said', (p) => void seen.push(p.text));
    events.emit('said', { text: 'original' });
    await turn();
    expect(seen).toEqual(['original']);
    // The tampering subscriber threw (strict mode) and was reported, like any failing subscriber.
    expect(errors).toEqual([{ event: 'said', message: 'event subscriber failed' }]);
  });
});

describe('the event hub costs nothing when nobody listens', () => {
  it('builds a payload given as a function only when the event has a subscriber', async () => {
    const { events } = hub();
    let built = 0;
    const payload = () => {
      built++;
      return { text: 'costly' };
    };
    events.emit('said', payload);
    expect(built).toBe(0);
    const heard: string[] = [];
    events.on('said', (p) => void heard.push(p.text));
    events.emit('said', payload);
    await turn();
    expect(built).toBe(1);
    expect(heard).toEqual(['costly']);
  });

  it('reports a payload function that throws, and returns to the emitter normally', () => {
    const { events, errors, observer } = hub();
    events.on('said', () => undefined);
    expect(() =>
      events.emit('said', () => {
        throw new Error('broken payload');
      }),
    ).not.toThrow();
    expect(errors).toEqual([{ event: 'said', message: 'building an event payload failed' }]);
    expect(observer.failures).toEqual(['said']);
  });
});

describe('a failing or slow subscriber is isolated', () => {
  it('logs and counts a subscriber that throws, with the event name, and still runs the others', async () => {
    const { events, errors, observer } = hub();
    const heard: string[] = [];
    events.on('said', () => {
      throw new Error('subscriber bug');
    });
    events.on('said', (p) => void heard.push(p.text));
    expect(() => events.emit('said', { text: 'still heard' })).not.toThrow();
    await turn();
    expect(heard).toEqual(['still heard']);
    expect(errors).toEqual([{ event: 'said', message: 'event subscriber failed' }]);
    expect(observer.failures).toEqual(['said']);
  });

  it('logs and counts a subscriber whose promise rejects, with nothing left unhandled', async () => {
    const { events, errors, observer } = hub();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let rejected!: () => void;
      const done = new Promise<void>((resolve) => (rejected = resolve));
      events.on('said', async () => {
        await Promise.resolve();
        setImmediate(rejected);
        throw new Error('async subscriber bug');
      });
      events.emit('said', { text: 'x' });
      await done;
      await turn();
      expect(errors).toEqual([{ event: 'said', message: 'event subscriber failed' }]);
      expect(observer.failures).toEqual(['said']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('lets a subscriber that never finishes hold up neither the next emission nor the other subscribers', async () => {
    const { events, errors } = hub();
    const started: string[] = [];
    const heard: string[] = [];
    events.on('said', (p) => {
      started.push(p.text);
      return new Promise<void>(() => undefined);
    });
    events.on('said', (p) => void heard.push(p.text));
    events.emit('said', { text: 'one' });
    events.emit('said', { text: 'two' });
    await turn();
    expect(started).toEqual(['one', 'two']);
    expect(heard).toEqual(['one', 'two']);
    expect(errors).toEqual([]);
  });

  it('keeps reporting when the logger itself throws', async () => {
    const observer = countingObserver();
    const events = new EventHub<TestEvents>({
      logger: {
        error: () => {
          throw new Error('logger down');
        },
      },
      observer,
    });
    const heard: string[] = [];
    events.on('said', () => {
      throw new Error('subscriber bug');
    });
    events.on('said', (p) => void heard.push(p.text));
    events.emit('said', { text: 'after both failed' });
    await turn();
    expect(heard).toEqual(['after both failed']);
    expect(observer.failures).toEqual(['said']);
  });
});
