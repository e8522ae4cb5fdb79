/** Logging: one short call with a level, a message and optional context. */

/** Where the broker reports connection changes. */
export type RedisBrokerLogger = (
  level: 'info' | 'warn' | 'error',
  message: string,
  context?: Record<string, unknown>,
) => void;

/** The default logger: one line on stderr, e.g. `redis: connection lost, retrying… {"role":"commands"}`. */
export const stderrLogger: RedisBrokerLogger = (level, message, context) => {
  const suffix = context && Object.keys(context).length > 0 ? ` ${JSON.stringify(context)}` : '';
  const line = `${message}${suffix}`;
  if (level === 'info') console.info(line);
  else if (level === 'warn') console.warn(line);
  else console.error(line);
};

/** A logger that drops everything (tests, or apps that watch the broker's events instead). */
export const silentLogger: RedisBrokerLogger = () => {};
