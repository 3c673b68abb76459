# heart_rstanarm_pem.R -- independent Bayesian PEM reference on counting-process rows (heart).
#
# Writes tests/reference/heart_rstanarm_pem.json: the (start, stop] rows of the Stanford heart
# transplant data are split at fixed cuts with survSplit (each piece keeps its own, possibly
# time-varying, transplant value), then rstanarm stan_glm Poisson PEM with offset
# log(stop - start): age + year + surgery + transplant, log baseline rates ~ Normal(log crude
# rate, 10), log-HRs ~ Normal(0, 1) and ~ Normal(0, 10). Used by issue 17.
#
# Data: tests/datasets/heart.csv (R survival 3.5 `heart`: 172 pieces, 103 subjects, 75 deaths).
# Sources: rstanarm 2.21 stan_glm; survival 3.5 survSplit (counting-process form).
#
# Usage:  Rscript scripts/reference/heart_rstanarm_pem.R   (from the repository root)

SCRIPT <- "scripts/reference/heart_rstanarm_pem.R"
source("scripts/reference/common.R")
suppressPackageStartupMessages(library(rstanarm))

prep <- prepare('heart_d <- read.csv("tests/datasets/heart.csv")')
CUTS <- quantile_cuts(heart_d$stop[heart_d$event == 1], 8)
prep <- c(prep, prepare(c(
  sprintf('vs <- survSplit(Surv(start, stop, event) ~ ., data = heart_d, cut = c(%s), episode = "interval")',
          paste(CUTS, collapse = ", ")),
  "vs$exposure <- vs$stop - vs$start")))
stopifnot(sum(vs$event) == 75, abs(sum(vs$exposure) - sum(heart_d$stop - heart_d$start)) < 1e-9)

run_pem_reference(
  "heart_rstanarm_pem",
  "rstanarm Poisson PEM (stan_glm) on survSplit of the heart counting-process rows at fixed cuts: age + year + surgery + transplant (time-varying), two coefficient priors",
  prep, list(dataset_entry("heart", "all", nrow(heart_d), "R survival 3.5 `heart`")),
  CUTS, "round(quantile(stop[event == 1], probs = (1:8)/9, type = 7)), unique",
  "age + year + surgery + transplant",
  c("age", "year", "surgery", "transplant"),
  list(start = "days since acceptance (start of the piece)", stop = "end of the piece (days)",
       event = "1 = death at the end of the (split) piece",
       age = "age - 48 years (as shipped)", year = "years since 1 Nov 1967",
       surgery = "0/1 prior bypass surgery",
       transplant = "time-varying 0/1 (1 on pieces after the transplant)",
       interval = "survSplit episode k = 1..J: (cuts[k-1], cuts[k]] with cuts[0] = 0; the last is open",
       exposure = "stop - start of the split piece (days)"),
  seeds = c(20261221L, 20261222L))
