// The MIME type a notebook uses to hand values to the runner's manifest (seeds, schedule strings, plotted numbers).
// Kept in its own file so the runner can read it without loading tslab.
export const RECORD_MIME = "application/vnd.flushlab.record+json";
