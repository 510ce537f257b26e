import type { PushStatusValue } from './schemas';

export interface PushCounts {
  pushes: number;
  recipients: number;
  delivered: number;
  stored: number;
  offline: number;
  unknown_user: number;
  failed: number;
}

const empty = (): PushCounts => ({ pushes: 0, recipients: 0, delivered: 0, stored: 0, offline: 0, unknown_user: 0, failed: 0 });

const FIELD: Record<PushStatusValue, keyof PushCounts> = {
  delivered: 'delivered',
  stored: 'stored',
  offline: 'offline',
  'unknown-user': 'unknown_user',
  failed: 'failed',
};

/** Push calls and their per-recipient outcomes, per application, since this node started. */
export class PushStatistics {
  readonly since = new Date();
  private readonly byApplication = new Map<string, PushCounts>();

  private of(application: string): PushCounts {
    let counts = this.byApplication.get(application);
    if (!counts) {
      counts = empty();
      this.byApplication.set(application, counts);
    }
    return counts;
  }

  /** One accepted push call with its results. */
  record(application: string, statuses: readonly PushStatusValue[]): void {
    const counts = this.of(application);
    counts.pushes++;
    counts.recipients += statuses.length;
    for (const status of statuses) counts[FIELD[status]]++;
  }

  applications(): Record<string, PushCounts> {
    return Object.fromEntries([...this.byApplication].map(([name, counts]) => [name, { ...counts }]));
  }

  total(): PushCounts {
    const total = empty();
    for (const counts of this.byApplication.values()) {
      for (const key of Object.keys(total) as Array<keyof PushCounts>) total[key] += counts[key];
    }
    return total;
  }
}
