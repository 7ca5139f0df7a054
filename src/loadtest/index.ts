/**
 * gamewire/loadtest: the load tester behind `gamewire loadtest`, in three folders by role: `bots/`
 * (what one client does), `harness/` (how many, how fast, for how long: worker processes, metrics,
 * the report object) and `report/` (how a run is shown: the live line, the summary table, the HTML
 * page). Each folder's README.md says what it owns and what it may import.
 *
 * A bot module default-exports a {@link BotDefinition}; its sessions are gamewire Sessions (usually
 * `PacketSession` subclasses, imported from `gamewire`) that report to their {@link BotContext}.
 * @packageDocumentation
 * @module gamewire/loadtest
 */
export { defineBot, type BotContext, type BotDefinition, type BotOptions } from './bots/bot.js';
export { BotLoadError, BUILT_IN_BOTS } from './bots/bot-loader.js';
export { echoBot, EchoBotSession, ECHO_BOT_PACKET_ID, ECHO_BOT_STAMP_SIZE } from './bots/echo-bot.js';
export { chatBot, ChatLoadBotSession } from './bots/chat-bot.js';
export { DeliveryOrder, type Delivery } from './bots/delivery-order.js';
export {
  DEFAULT_BOT_INTERVAL_MS,
  DEFAULT_BOT_MESSAGE,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_LOADTEST_DURATION_MS,
  DEFAULT_LOADTEST_SESSIONS,
  DEFAULT_RECONNECT_DELAY_MS,
  type LoadTestConfig,
  type LoadTestOptions,
} from './harness/load-test-config.js';
export { LoadTestError, runLoadTest, type LoadTestHooks, type LoadTestProgress } from './harness/run-load-test.js';
export type { LoadTestPoint, LoadTestTotals } from './harness/run-aggregator.js';
export type { ChaosMethod, ResilienceCounts } from './harness/ipc-messages.js';
export {
  LOADTEST_REPORT_FORMAT,
  writeJsonReport,
  type LoadTestLatency,
  type LoadTestRates,
  type LoadTestReport,
} from './harness/load-test-report.js';
export { writeHtmlReport } from './report/html-report.js';
export { summaryTable } from './report/summary-table.js';
export type { LatencySummary, PercentilePoint } from './harness/latency-histogram.js';
