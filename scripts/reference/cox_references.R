# cox_references.R -- Cox partial-likelihood references (Breslow and Efron ties) for the public
# cohorts other than veteran (see veteran_cox.R).
#
# Writes tests/reference/{colon_cox, heart_cox, stratified_cox, ovarian_cox, rossi_cox,
# larynx_cox}.json. Used by issues 16 (colon, ovarian), 17 (heart counting process;
# stratified Cox) and 23 (PEM with event-time cuts vs Cox on rossi, larynx and more).
#
# Data (tests/datasets/, written by export_datasets.R): R survival 3.5 colon (deaths,
# etype == 2; complete nodes), heart (Stanford heart transplant, counting process), lung,
# ovarian; lifelines 0.30 rossi (Rossi, Berk & Lenihan 1980) and larynx (Kardaun 1983 via
# Klein & Moeschberger 2003; lifelines ships it dummy-coded, stage I the reference, with
# age but without the year of diagnosis).
# Source: Therneau T (2023) survival 3.5 coxph (Breslow 1974; Efron 1977 ties).
#
# Usage:  Rscript scripts/reference/cox_references.R   (from the repository root)

SCRIPT <- "scripts/reference/cox_references.R"
source("scripts/reference/common.R")
PKGS <- c("survival", "jsonlite")
src <- "R survival 3.5"

write_cox <- function(name, description, prep, datasets, formulas, data_name, coding, extra = list()) {
  fits <- cox_fits(formulas, data_name)
  write_reference(name, c(list(description = description, datasets = datasets,
                               data_preparation = prep, calls = fits$calls, coding = coding),
                          extra, list(results = fits$results)), PKGS)
}

# colon: deaths ------------------------------------------------------------------------------
prep_colon <- prepare(c(
  'colon_d <- read.csv("tests/datasets/colon_deaths.csv", stringsAsFactors = FALSE)',
  'colon_d$rx <- factor(colon_d$rx, levels = c("Obs", "Lev", "Lev+5FU"))'))
colon_coding <- list(
  time = "days to death or censoring (colon, etype == 2)", status = "1 = death",
  rx = "factor, levels Obs (reference), Lev, Lev+5FU", sex = "1 = male, 0 = female",
  age = "years", obstruct = "0/1 obstruction of colon by tumour",
  nodes = "number of positive lymph nodes (per node)")
colon_ds <- list(dataset_entry("colon_deaths", "all (file already restricted: etype == 2, nodes not NA; 18 of 929 dropped)",
                               nrow(colon_d), paste(src, "`colon`")))
write_cox("colon_cox", "coxph of colon deaths: rx + sex + age + obstruct + nodes",
          prep_colon, colon_ds,
          list(main = "Surv(time, status) ~ rx + sex + age + obstruct + nodes"), "colon_d",
          colon_coding, list(follow_up = follow_up_summary(colon_d$time, colon_d$status)))

# heart: counting process, transplant time-varying -------------------------------------------
prep_heart <- prepare('heart_d <- read.csv("tests/datasets/heart.csv")')
heart_coding <- list(
  start = "days since acceptance into the programme, start of the (start, stop] piece",
  stop = "end of the piece (days)", event = "1 = death at stop (only on a subject's last piece)",
  age = "age at acceptance - 48 years (R heart$age as shipped)",
  year = "year of acceptance, years since 1 Nov 1967 (R heart$year)",
  surgery = "0/1 prior bypass surgery",
  transplant = "time-varying 0/1: 0 before the transplant, 1 on the piece after it (R factor '0'/'1' -> integer)",
  id = "subject id (103 subjects, 172 pieces)")
write_cox("heart_cox",
          "coxph on the Stanford heart transplant counting-process rows: age + year + surgery + transplant (time-varying)",
          prep_heart, list(dataset_entry("heart", "all", nrow(heart_d), paste(src, "`heart`"))),
          list(main = "Surv(start, stop, event) ~ age + year + surgery + transplant"), "heart_d",
          heart_coding, list(follow_up = follow_up_summary(heart_d$stop, heart_d$event, heart_d$id)))

# stratified Cox -------------------------------------------------------------------------------
prep_strat <- c(
  prepare(c('vet <- read.csv("tests/datasets/veteran.csv", stringsAsFactors = FALSE)',
            'vet$celltype <- factor(vet$celltype, levels = c("squamous", "smallcell", "adeno", "large"))',
            'lung_d <- read.csv("tests/datasets/lung.csv")')),
  prep_colon)
strat_fits <- list(
  veteran = cox_fits(list(strata_celltype = "Surv(time, status) ~ karno10 + trt + strata(celltype)"), "vet"),
  colon = cox_fits(list(strata_rx = "Surv(time, status) ~ sex + age + obstruct + nodes + strata(rx)"), "colon_d"),
  lung = cox_fits(list(strata_sex = "Surv(time, status == 2) ~ age + ph.ecog + strata(sex)"), "lung_d"))
strata_sizes <- list(
  veteran = lapply(split(vet$status, vet$celltype), function(s) list(n = length(s), events = sum(s))),
  colon = lapply(split(colon_d$status, colon_d$rx), function(s) list(n = length(s), events = sum(s))),
  lung = lapply(split(lung_d$status == 2, lung_d$sex), function(s) list(n = length(s), events = sum(s))))
write_reference("stratified_cox", list(
  description = "Stratified Cox (separate baseline per stratum, shared coefficients)",
  datasets = list(dataset_entry("veteran", "all", nrow(vet), paste(src, "`veteran`")),
                  colon_ds[[1]],
                  dataset_entry("lung", "all (file already without the 1 patient with ph.ecog NA)",
                                nrow(lung_d), paste(src, "`lung`"))),
  data_preparation = prep_strat,
  calls = unname(unlist(lapply(strat_fits, `[[`, "calls"))),
  coding = list(
    veteran = list(time = "days", status = "1 = death", karno10 = "karno / 10",
                   trt = "R trt - 1 (0 = standard, 1 = test)",
                   celltype = "stratum: squamous, smallcell, adeno, large"),
    colon = c(colon_coding[c("time", "status", "sex", "age", "obstruct", "nodes")],
              list(rx = "stratum: Obs, Lev, Lev+5FU")),
    lung = list(time = "days", status = "R coding 1 = censored, 2 = dead; event = status == 2",
                age = "years", ph.ecog = "ECOG performance score 0-3 (numeric, per point)",
                sex = "stratum: 1 = male, 2 = female")),
  strata_sizes = strata_sizes,
  results = lapply(strat_fits, `[[`, "results")), PKGS)

# ovarian -----------------------------------------------------------------------------------------
prep_ov <- prepare('ov <- read.csv("tests/datasets/ovarian.csv")')
write_cox("ovarian_cox", "coxph of ovarian: age + resid.ds + rx + ecog.ps", prep_ov,
          list(dataset_entry("ovarian", "all", nrow(ov), paste(src, "`ovarian`"))),
          list(main = "Surv(futime, fustat) ~ age + resid.ds + rx + ecog.ps"), "ov",
          list(futime = "days", fustat = "1 = death", age = "years",
               resid.ds = "numeric as shipped: 1 = no residual disease, 2 = residual disease (log-HR per unit = 2 vs 1)",
               rx = "numeric as shipped: treatment group 1 or 2 (log-HR = 2 vs 1)",
               ecog.ps = "numeric as shipped: ECOG performance status 1 or 2 (log-HR = 2 vs 1)"),
          list(follow_up = follow_up_summary(ov$futime, ov$fustat)))

# rossi, larynx (lifelines CSVs) ------------------------------------------------------------------
prep_rossi <- prepare('rossi <- read.csv("tests/datasets/rossi.csv")')
write_cox("rossi_cox", "coxph of rossi (lifelines): fin + age + race + wexp + mar + paro + prio",
          prep_rossi, list(dataset_entry("rossi", "all", nrow(rossi), "lifelines 0.30.3 datasets/rossi.csv (load_rossi)")),
          list(main = "Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio"), "rossi",
          list(week = "weeks to first arrest or censoring at 52", arrest = "1 = arrested",
               fin = "0/1 financial aid", age = "years at release", race = "0/1 (1 = black)",
               wexp = "0/1 full-time work experience", mar = "0/1 married", paro = "0/1 released on parole",
               prio = "number of prior convictions"),
          list(follow_up = follow_up_summary(rossi$week, rossi$arrest)))
prep_lar <- prepare('larynx <- read.csv("tests/datasets/larynx.csv")')
write_cox("larynx_cox", "coxph of larynx (lifelines): Stage_II + Stage_III + Stage_IV + age",
          prep_lar, list(dataset_entry("larynx", "all", nrow(larynx), "lifelines 0.30.3 datasets/larynx.csv (load_larynx)")),
          list(main = "Surv(time, death) ~ Stage_II + Stage_III + Stage_IV + age"), "larynx",
          list(time = "years from diagnosis", death = "1 = death",
               Stage_II = "0/1 dummy as shipped by lifelines (stage I is the reference: all three 0)",
               Stage_III = "0/1 dummy", Stage_IV = "0/1 dummy", age = "years at diagnosis",
               diagyr = "not in lifelines' larynx.csv, not used"),
          list(follow_up = follow_up_summary(larynx$time, larynx$death)))
