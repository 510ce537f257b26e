import { ApiError } from './api-error';

/**
 * API_QUOTA_PER_MINUTE: push calls (POST /messages, POST /control) one application may make per
 * minute, counted in fixed minute windows per application on this node. A call beyond it is refused
 * before anything is sent, with the seconds left in the window as Retry-After (RFC 9110 §10.2.3).
 */
export class PushQuota {
  private readonly windows = new Map<string, { start: number; used: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one call of `application`, or throws quota_exceeded without counting it. */
  take(application: string): void {
    const now = this.now();
    let window = this.windows.get(application);
    if (!window || now - window.start >= 60_000) {
      window = { start: now, used: 0 };
      this.windows.set(application, window);
    }
    if (window.used >= this.perMinute) {
      const retryAfter = Math.max(1, Math.ceil((window.start + 60_000 - now) / 1000));
      throw new ApiError('quota_exceeded', `at most ${this.perMinute} push calls per minute for this application`, undefined, retryAfter);
    }
    window.used++;
  }
}
