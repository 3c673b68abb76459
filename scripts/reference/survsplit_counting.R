# survsplit_counting.R -- golden person-period expansions of counting-process rows.
#
# Writes tests/reference/survsplit_counting.json: survival::survSplit on hand-made
# (tstart, tstop, event) rows with delayed entry, cut at c(2, 5), so that
# necc_bayes.survival.intervals.expand(time, event, cuts, entry) can be checked against R's
# own splitting (tests/survival/test_intervals_entry.py). The cases: entry exactly at a cut,
# entry inside an interval, a piece entirely inside one interval, several pieces of one id
# (with and without a gap between pieces), an event exactly at a cut after a late entry, and
# entry at the last cut.
#
# Source: Therneau T (2023). survival 3.5, survSplit (?survSplit: "Surv(tstart, tstop,
# event)" input keeps tstart as the first piece's start).
#
# Usage:  Rscript scripts/reference/survsplit_counting.R   (from the repository root; < 1 s)

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
SCRIPT <- "scripts/reference/survsplit_counting.R"

rows_txt <- paste0(
  "cp <- data.frame(",
  "id     = c(1, 2, 3, 4, 4, 4, 5, 6, 7, 7), ",
  "tstart = c(2, 1, 2.5, 0, 1.5, 6, 5, 0.5, 0, 3), ",
  "tstop  = c(4, 3, 4.5, 1.5, 6, 8, 7, 2, 1, 5), ",
  "event  = c(1, 0, 1, 0, 0, 1, 0, 1, 0, 1), ",
  "x      = c(0, 1, 0, 0, 1, 1, 1, 0, 0, 1))")
eval(parse(text = rows_txt))
split_txt <- paste0('sp <- survSplit(Surv(tstart, tstop, event) ~ ., data = cp, cut = c(2, 5), ',
                    'start = "tstart", end = "tstop", event = "event", episode = "interval")')
eval(parse(text = split_txt))
sp$exposure <- sp$tstop - sp$tstart
sp <- sp[order(sp$id, sp$tstart), ]

out <- list(
  schema = "necc-bayes R reference v1", analysis = "survsplit_counting", tool = "R",
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                  R_version_string = R.version.string,
                  survival = as.character(packageVersion("survival")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  platform = R.version$platform, date = format(Sys.Date()), script = SCRIPT,
  description = paste("survSplit of hand-made counting-process rows at cuts 2 and 5:",
                      "delayed entry, pieces per id, events at cuts"),
  data_preparation = c(rows_txt, split_txt, "sp$exposure <- sp$tstop - sp$tstart"),
  cases = list(
    "id 1" = "entry exactly at the cut 2, event at 4 inside (2, 5]",
    "id 2" = "entry at 1 inside (0, 2], censored at 3 after crossing the cut 2",
    "id 3" = "a piece (2.5, 4.5] entirely inside one interval, with its event",
    "id 4" = "three pieces (0, 1.5], (1.5, 6], (6, 8] with x changing from 0 to 1; event at 8",
    "id 5" = "entry exactly at the last cut 5, censored at 7",
    "id 6" = "entry at 0.5, event exactly at the cut 2 (belongs to (0, 2])",
    "id 7" = "two pieces with a gap: (0, 1] then (3, 5], event exactly at the cut 5"),
  cuts = c(2, 5),
  input = cp,
  split = list(id = sp$id, interval = sp$interval, tstart = sp$tstart, tstop = sp$tstop,
               exposure = sp$exposure, event = sp$event, x = sp$x))
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, digits = NA, dataframe = "columns"),
           "tests/reference/survsplit_counting.json")
message("wrote tests/reference/survsplit_counting.json")
