// flushlab/display: what notebooks import to show plots, timelines, tables, progress, and to record values.
export { emit, type EmitOptions, type EmitPath, type MimeBundle } from "./emit";
export { escapeHtml, jsonForScript, scriptSafe } from "./escape";
export { plot, plotlyBundle, resetPlotlyInjection, PLOTLY_MIME, type Figure, type PlotOptions } from "./plotly";
export { timeline, timelineFigure, type TimelineOptions } from "./timeline";
export {
  countsPlot,
  countsFigure,
  latencyPlot,
  latencyFigure,
  summary,
  type Counts,
  type CountsOptions,
  type LatencyOptions,
  type Series,
  type ChartOptions,
} from "./charts";
export { table, tableHtml, tableText, type Row, type TableOptions } from "./table";
export { diff, diffHtml, changeTable, sideBySide } from "./diff";
export { translations, translationsHtml } from "./translations";
export { translationState, type TranslationRow } from "../report-state";
export { progress, type Progress } from "./progress";
export { record, RECORD_MIME } from "./record";
