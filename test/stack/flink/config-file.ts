/** Renders flat Flink options as a config.yaml (the format both Flink 1.20 and 2.x read). */
export function renderFlinkConfig(options: Record<string, string>): string {
  return (
    Object.entries(options)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
      .join('\n') + '\n'
  );
}

/**
 * Parses the `key: value` lines of a flat Flink configuration (config.yaml written with flat keys, or the
 * FLINK_PROPERTIES convention of the official image). Nested YAML is out of scope for the local stack.
 */
export function parseFlatFlinkConfig(text: string): Record<string, string> {
  const options: Record<string, string> = {};
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    let value = line.slice(colon + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) {
      value = JSON.parse(value) as string;
    } else if (value.startsWith("'") && value.endsWith("'")) {
      value = value.slice(1, -1);
    }
    options[key] = value;
  }
  return options;
}

export const LOG4J_CONSOLE_PROPERTIES = `rootLogger.level = INFO
rootLogger.appenderRef.console.ref = ConsoleAppender
appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.pekko.name = org.apache.pekko
logger.pekko.level = WARN
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
logger.netty.name = org.apache.flink.shaded.netty4.io.netty.channel.DefaultChannelPipeline
logger.netty.level = OFF
`;
