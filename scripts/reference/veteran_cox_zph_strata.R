# veteran_cox_zph_strata.R -- cox.zph of the veteran Cox model stratified by cell type.
#
# Writes tests/reference/veteran_cox_zph_strata.json: coxph(Surv(time, status) ~ karno10 + trt
# + strata(celltype), ties = "breslow") coefficients and cox.zph(transform = "km" and
# "identity") chi-squares. Used by issue 18: the PH check of a stratified PEM (a baseline per
# cell type) against R.
#
# Data: tests/datasets/veteran.csv (export_datasets.R); time in days.
# Sources: Therneau T (2023) survival 3.5: coxph, strata, cox.zph (score test of Grambsch &
# Therneau 1994, reimplemented in survival 3.0; with strata the residuals are per stratum).
#
# Usage:  Rscript scripts/reference/veteran_cox_zph_strata.R   (from the repository root)

SCRIPT <- "scripts/reference/veteran_cox_zph_strata.R"
source("scripts/reference/common.R")

prep <- prepare(c(
  'vet <- read.csv("tests/datasets/veteran.csv", stringsAsFactors = FALSE)',
  'vet$celltype <- factor(vet$celltype, levels = c("squamous", "smallcell", "adeno", "large"))'))
stopifnot(nrow(vet) == 137, sum(vet$status) == 128)

coding <- list(
  time = "days from randomisation (R veteran$time)",
  status = "1 = death, 0 = censored",
  celltype = "stratum (a separate baseline hazard per cell type): squamous, smallcell, adeno, large",
  karno10 = "Karnofsky score / 10 (R veteran$karno / 10); log-HR per 10 points",
  trt = "R veteran$trt - 1: 0 = standard, 1 = test chemotherapy")
ds <- list(dataset_entry("veteran", "all", nrow(vet), "R survival 3.5 `veteran`"))

fit <- run_call('coxph(Surv(time, status) ~ karno10 + trt + strata(celltype), data = vet, ties = "breslow")')
calls <- fit$call
zph <- list()
for (tr in c("km", "identity")) {
  txt <- sprintf('cox.zph(fit_breslow, transform = "%s")', tr)
  env <- new.env()
  assign("fit_breslow", fit$value, envir = env)
  r <- run_call(txt, env)
  calls <- c(calls, txt)
  t <- r$value$table
  zph[[tr]] <- list(transform = tr, table = lapply(rownames(t), function(nm) {
    list(term = nm, chisq = unname(t[nm, "chisq"]), df = unname(t[nm, "df"]),
         p = unname(t[nm, "p"]))
  }))
}
write_reference("veteran_cox_zph_strata", list(
  description = "cox.zph of the veteran Cox fit stratified by celltype (karno10 + trt + strata(celltype), Breslow)",
  datasets = ds, data_preparation = prep, calls = as.list(calls), coding = coding,
  results = list(breslow = cox_results(fit$value), zph = zph)), c("survival", "jsonlite"))
