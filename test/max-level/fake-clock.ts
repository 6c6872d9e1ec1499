/** A clock tests move by hand: resolver TTLs and alias deprecation dates never need a real wait. */
export interface FakeClock {
  (): Date;
  advance(ms: number): void;
  set(iso: string): void;
}

export function createFakeClock(iso = '2026-01-15T12:00:00.000Z'): FakeClock {
  let now = Date.parse(iso);
  const clock = (() => new Date(now)) as FakeClock;
  clock.advance = (ms) => {
    now += ms;
  };
  clock.set = (at) => {
    now = Date.parse(at);
  };
  return clock;
}
