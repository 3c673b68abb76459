# veteran_rstanarm_pem.R -- independent Bayesian piecewise-exponential reference for `veteran`.
#
# Writes tests/reference/veteran_rstanarm_pem.json: rstanarm stan_glm Poisson PEM on survSplit
# rows (the piecewise-exponential likelihood equals a Poisson likelihood for the interval
# event indicators with offset log(exposure); Holford 1980, Laird & Olivier 1981), with
# log baseline rates ~ Normal(log crude rate, 10) and log-HRs ~ Normal(0, 1) ("informative")
# and ~ Normal(0, 10) ("vague"). Used by issue 16 (independent Bayesian reference).
#
# Data: tests/datasets/veteran.csv (R survival 3.5 `veteran`, time in days).
# Sources: Goodrich B, Gabry J, Ali I, Brilleman S (2020) rstanarm 2.21 (stan_glm; ?priors:
# normal(location, scale, autoscale)); Therneau T (2023) survival 3.5 survSplit.
#
# Usage:  Rscript scripts/reference/veteran_rstanarm_pem.R   (from the repository root; ~1.5 min)

SCRIPT <- "scripts/reference/veteran_rstanarm_pem.R"
source("scripts/reference/common.R")
suppressPackageStartupMessages(library(rstanarm))

prep <- prepare(c(
  'vet <- read.csv("tests/datasets/veteran.csv", stringsAsFactors = FALSE)',
  'vet$celltype <- factor(vet$celltype, levels = c("squamous", "smallcell", "adeno", "large"))'))
CUTS <- quantile_cuts(vet$time[vet$status == 1], 8)
prep <- c(prep, prepare(c(
  sprintf(paste0('vs <- survSplit(Surv(time, status) ~ ., data = vet, cut = c(%s), ',
                 'start = "tstart", end = "tstop", event = "event", episode = "interval")'),
          paste(CUTS, collapse = ", ")),
  "vs$exposure <- vs$tstop - vs$tstart")))

run_pem_reference(
  "veteran_rstanarm_pem",
  "rstanarm Poisson PEM (stan_glm) on survSplit rows of veteran at fixed cuts: celltype + karno10 + trt, two coefficient priors",
  prep, list(dataset_entry("veteran", "all", nrow(vet), "R survival 3.5 `veteran`")),
  CUTS, "round(quantile(time[status == 1], probs = (1:8)/9, type = 7)), unique",
  "celltype + karno10 + trt",
  c("celltypesmallcell", "celltypeadeno", "celltypelarge", "karno10", "trt"),
  list(time = "days", status = "1 = death", event = "survSplit interval event indicator",
       celltype = "factor, levels squamous (reference), smallcell, adeno, large",
       karno10 = "karno / 10 (not centred)", trt = "R trt - 1 (0 = standard, 1 = test)",
       interval = "survSplit episode k = 1..J: (cuts[k-1], cuts[k]] with cuts[0] = 0; the last is open",
       exposure = "tstop - tstart (days)"),
  seeds = c(20261201L, 20261202L))
