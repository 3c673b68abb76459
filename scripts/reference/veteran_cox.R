# veteran_cox.R -- Cox, cox.zph and interval-by-interval Poisson references for R's `veteran`.
#
# Writes tests/reference/veteran_cox.json (coxph Breslow and Efron), veteran_cox_zph.json
# (cox.zph, transforms "km" and "identity", per term and GLOBAL) and
# veteran_interval_glm.json (per-interval log-HR of karno10 from an unsmoothed Poisson GLM on
# survSplit rows, plus the equivalent Cox fit with interval-specific karno10 slopes).
# Used by issues 16, 18 and 23.
#
# Data: tests/datasets/veteran.csv (export_datasets.R): Veterans' Administration lung cancer
# trial (Kalbfleisch & Prentice 1980), R survival 3.5 `veteran`; time in days.
# Sources: Therneau T (2023) survival 3.5: coxph, cox.zph (Grambsch & Therneau 1994 score
# test as reimplemented in survival 3.0), survSplit.
#
# Usage:  Rscript scripts/reference/veteran_cox.R   (from the repository root)

SCRIPT <- "scripts/reference/veteran_cox.R"
source("scripts/reference/common.R")

CELL_LEVELS <- c("squamous", "smallcell", "adeno", "large")
prep <- prepare(c(
  'vet <- read.csv("tests/datasets/veteran.csv", stringsAsFactors = FALSE)',
  'vet$celltype <- factor(vet$celltype, levels = c("squamous", "smallcell", "adeno", "large"))'))
stopifnot(nrow(vet) == 137, sum(vet$status) == 128)

coding <- list(
  time = "days from randomisation (R veteran$time)",
  status = "1 = death, 0 = censored",
  celltype = paste("factor with R's levels", paste(CELL_LEVELS, collapse = ", "),
                   "(reference squamous; treatment contrasts celltypesmallcell, celltypeadeno, celltypelarge)"),
  karno10 = "Karnofsky score / 10 (R veteran$karno / 10); log-HR per 10 points",
  trt = "R veteran$trt - 1: 0 = standard, 1 = test chemotherapy")
ds <- list(dataset_entry("veteran", "all", nrow(vet), "R survival 3.5 `veteran`"))
PKGS <- c("survival", "jsonlite")

# (a) Cox, Breslow and Efron ---------------------------------------------------------------
cox <- lapply(c(breslow = "breslow", efron = "efron"), function(ties) {
  run_call(sprintf('coxph(Surv(time, status) ~ celltype + karno10 + trt, data = vet, ties = "%s")', ties))
})
write_reference("veteran_cox", list(
  description = "coxph of veteran: celltype + karno10 + trt, Breslow and Efron ties",
  datasets = ds, data_preparation = prep, calls = unname(lapply(cox, `[[`, "call")),
  coding = coding,
  results = lapply(cox, function(r) cox_results(r$value))), PKGS)

# (b) cox.zph ---------------------------------------------------------------------------------
zph_table <- function(z) {
  t <- z$table
  lapply(rownames(t), function(nm) list(term = nm, chisq = unname(t[nm, "chisq"]),
                                        df = unname(t[nm, "df"]), p = unname(t[nm, "p"])))
}
zph_calls <- character(0)
zph_res <- list()
for (ties in c("breslow", "efron")) {
  for (tr in c("km", "identity")) {
    for (terms in c(TRUE, FALSE)) {
      txt <- sprintf('cox.zph(fit_%s, transform = "%s", terms = %s)', ties, tr, terms)
      env <- new.env()
      assign(paste0("fit_", ties), cox[[ties]]$value, envir = env)
      r <- run_call(txt, env)
      zph_calls <- c(zph_calls, txt)
      key <- sprintf("%s_%s_%s", ties, tr, if (terms) "terms" else "coefficients")
      zph_res[[key]] <- list(fit = cox[[ties]]$call, transform = tr, terms = terms,
                             table = zph_table(r$value))
    }
  }
}
write_reference("veteran_cox_zph", list(
  description = paste("cox.zph of the veteran Cox fits (celltype + karno10 + trt), per term",
                      "(terms = TRUE: celltype as one 3-df term) and per coefficient (terms = FALSE), and GLOBAL"),
  datasets = ds, data_preparation = prep, calls = c(unname(lapply(cox, `[[`, "call")), zph_calls),
  coding = coding,
  results = zph_res), PKGS)

# (c) unsmoothed interval-by-interval karno10 effect ------------------------------------------
CUTS <- c(30, 60, 100, 180)
J <- length(CUTS) + 1
split_prep <- prepare(c(
  sprintf('vs <- survSplit(Surv(time, status) ~ ., data = vet, cut = c(%s), start = "tstart", end = "tstop", event = "event", episode = "interval")',
          paste(CUTS, collapse = ", ")),
  "vs$exposure <- vs$tstop - vs$tstart",
  sprintf('for (k in 1:%d) vs[[paste0("karno10_i", k)]] <- vs$karno10 * (vs$interval == k)', J)))
per_interval <- interval_table(vs, CUTS)  # last interval: upper = null (open)
stopifnot(all(sapply(per_interval, `[[`, "events") >= 15))

nested <- run_call("glm(event ~ 0 + factor(interval) + factor(interval):karno10 + celltype + trt + offset(log(exposure)), family = poisson, data = vs)")
crossed <- run_call("glm(event ~ factor(interval) * karno10 + celltype + trt + offset(log(exposure)), family = poisson, data = vs)")
coxint <- run_call(paste0("coxph(Surv(tstart, tstop, event) ~ celltype + trt + ",
                          paste0("karno10_i", seq_len(J), collapse = " + "),
                          ', data = vs, ties = "breslow")'))

sn <- summary(nested$value)$coefficients
slope_rows <- grep(":karno10$", rownames(sn))
# the crossed parametrisation gives the same per-interval slopes as main effect + interaction
bc <- coef(crossed$value); vc <- vcov(crossed$value)
crossed_slopes <- sapply(seq_len(J), function(k) {
  L <- setNames(numeric(length(bc)), names(bc)); L["karno10"] <- 1
  if (k > 1) L[sprintf("factor(interval)%d:karno10", k)] <- 1
  c(est = sum(L * bc), se = sqrt(drop(t(L) %*% vc %*% L)))
})
stopifnot(max(abs(crossed_slopes["est", ] - sn[slope_rows, "Estimate"])) < 1e-6)
sc <- summary(coxint$value)$coefficients
for (k in seq_len(J)) {
  per_interval[[k]]$poisson_glm_karno10_log_hr <- unname(sn[slope_rows[k], "Estimate"])
  per_interval[[k]]$poisson_glm_karno10_se <- unname(sn[slope_rows[k], "Std. Error"])
  per_interval[[k]]$cox_karno10_log_hr <- unname(sc[paste0("karno10_i", k), "coef"])
  per_interval[[k]]$cox_karno10_se <- unname(sc[paste0("karno10_i", k), "se(coef)"])
}
glm_terms <- lapply(rownames(sn), function(nm) list(term = nm, coef = unname(sn[nm, "Estimate"]),
                                                    se = unname(sn[nm, "Std. Error"])))
write_reference("veteran_interval_glm", list(
  description = paste("Per-interval log-HR of karno10 (unsmoothed): Poisson GLM on survSplit rows",
                      "with interval-specific baseline and interval-specific karno10 slope,",
                      "celltype and trt constant; and the equivalent Cox fit (Breslow) with",
                      "karno10_i<k> = karno10 * (interval == k)."),
  datasets = ds, data_preparation = c(prep, split_prep),
  calls = c(nested$call, crossed$call, coxint$call),
  coding = c(coding, list(interval = "survSplit episode: 1 = (0, 30], 2 = (30, 60], 3 = (60, 100], 4 = (100, 180], 5 = (180, Inf) days",
                          exposure = "tstop - tstart (days at risk in the interval)",
                          karno10_ik = "karno10 * (interval == k)")),
  cuts = CUTS,
  results = list(per_interval = per_interval, poisson_glm_all_terms = glm_terms,
                 poisson_glm_deviance = deviance(nested$value),
                 cox_loglik = unname(coxint$value$loglik[2]))), PKGS)
