# colon_rstanarm_pem.R -- independent Bayesian piecewise-exponential reference for colon deaths.
#
# Writes tests/reference/colon_rstanarm_pem.json: rstanarm stan_glm Poisson PEM on survSplit
# rows at fixed cuts, rx + sex + age + obstruct + nodes, log baseline rates ~ Normal(log crude
# rate, 10), log-HRs ~ Normal(0, 1) and ~ Normal(0, 10). Used by issue 16.
#
# Data: tests/datasets/colon_deaths.csv (R survival 3.5 `colon`, etype == 2, nodes not NA;
# 911 of 929 patients; time in days).
# Sources: rstanarm 2.21 stan_glm; survival 3.5 survSplit (see veteran_rstanarm_pem.R).
#
# Usage:  Rscript scripts/reference/colon_rstanarm_pem.R   (from the repository root; 10-50 min)

SCRIPT <- "scripts/reference/colon_rstanarm_pem.R"
source("scripts/reference/common.R")
suppressPackageStartupMessages(library(rstanarm))

prep <- prepare(c(
  'colon_d <- read.csv("tests/datasets/colon_deaths.csv", stringsAsFactors = FALSE)',
  'colon_d$rx <- factor(colon_d$rx, levels = c("Obs", "Lev", "Lev+5FU"))'))
CUTS <- quantile_cuts(colon_d$time[colon_d$status == 1], 8)
prep <- c(prep, prepare(c(
  sprintf(paste0('vs <- survSplit(Surv(time, status) ~ ., data = colon_d, cut = c(%s), ',
                 'start = "tstart", end = "tstop", event = "event", episode = "interval")'),
          paste(CUTS, collapse = ", ")),
  "vs$exposure <- vs$tstop - vs$tstart")))

run_pem_reference(
  "colon_rstanarm_pem",
  "rstanarm Poisson PEM (stan_glm) on survSplit rows of colon deaths at fixed cuts: rx + sex + age + obstruct + nodes, two coefficient priors",
  prep, list(dataset_entry("colon_deaths", "all (file already restricted: etype == 2, nodes not NA; 18 of 929 dropped)",
                           nrow(colon_d), "R survival 3.5 `colon`")),
  CUTS, "round(quantile(time[status == 1], probs = (1:8)/9, type = 7)), unique",
  "rx + sex + age + obstruct + nodes",
  c("rxLev", "rxLev+5FU", "sex", "age", "obstruct", "nodes"),
  list(time = "days", status = "1 = death", event = "survSplit interval event indicator",
       rx = "factor, levels Obs (reference), Lev, Lev+5FU", sex = "1 = male, 0 = female",
       age = "years (not centred)", obstruct = "0/1", nodes = "positive lymph nodes (per node)",
       interval = "survSplit episode k = 1..J: (cuts[k-1], cuts[k]] with cuts[0] = 0; the last is open",
       exposure = "tstop - tstart (days)"),
  seeds = c(20261211L, 20261212L),
  # 4 x 3000 post-warmup draws: age (uncentred, mean 60) is correlated with all nine log
  # baseline rates; at iter = 2000 their bulk ESS was ~650-700 and Rhat up to 1.011.
  iter = 4000)
