# pbc_mice.R -- complete-case Cox and multiple-imputation Cox references on R's `pbc`.
#
# Writes tests/reference/pbc_mice.json. Outcome: death (status == 2; transplant, status == 1,
# is censored), time in days. Model: age + edema + log(bili) + log(albumin) + log(protime) +
# ascites + hepato + spiders. ascites, hepato and spiders are missing for the 106 non-trial
# patients (and protime for 2 of them); every other model column is complete.
#   (a) coxph Breslow on the 312 complete cases;
#   (b) mice (m = 50, maxit = 20): logreg for the binaries, pmm for log(protime), with the
#       Nelson-Aalen cumulative hazard H0(T) and the event indicator among the predictors
#       (White & Royston 2009, Stat Med 28:1982), coxph Breslow per imputation, pooled by
#       Rubin's rules (mice::pool; checked by hand below).
# Used by issue 19 (agreement with multiple imputation within 0.25 posterior SD).
#
# Data: tests/datasets/pbc.csv (R survival 3.5 `pbc`, Mayo Clinic PBC, all 418 patients).
# Sources: van Buuren & Groothuis-Oudshoorn (2011) mice, JSS 45(3), mice 3.15
# (mice.impute.logreg, mice.impute.pmm, nelsonaalen, pool); Rubin (1987); Barnard & Rubin
# (1999) small-sample df; survival 3.5 coxph.
#
# Usage:  Rscript scripts/reference/pbc_mice.R   (from the repository root; ~1 min)

SCRIPT <- "scripts/reference/pbc_mice.R"
source("scripts/reference/common.R")
suppressPackageStartupMessages(library(mice))

prep <- prepare(c(
  'pbc_d <- read.csv("tests/datasets/pbc.csv", stringsAsFactors = FALSE)',
  'pbc_d$event <- as.integer(pbc_d$status == 2)',
  'pbc_d$lbili <- log(pbc_d$bili)',
  'pbc_d$lalbumin <- log(pbc_d$albumin)',
  'pbc_d$lprotime <- log(pbc_d$protime)'))
MODEL_VARS <- c("age", "edema", "lbili", "lalbumin", "lprotime", "ascites", "hepato", "spiders")
FORMULA <- paste("Surv(time, event) ~", paste(MODEL_VARS, collapse = " + "))
na_counts <- as.list(colSums(is.na(pbc_d)))

# (a) complete cases ---------------------------------------------------------------------------
prep <- c(prep, prepare(
  'pbc_cc <- pbc_d[complete.cases(pbc_d[, c("time", "event", "age", "edema", "lbili", "lalbumin", "lprotime", "ascites", "hepato", "spiders")]), ]'))
stopifnot(nrow(pbc_cc) == 312)
cc <- cox_fits(list(complete_case = FORMULA), "pbc_cc")

# (b) multiple imputation ------------------------------------------------------------------------
M <- 50; MAXIT <- 20; SEED <- 20261241L
imp_prep <- prepare(c(
  'imp_d <- pbc_d[, c("time", "event", "age", "edema", "lbili", "lalbumin", "lprotime", "ascites", "hepato", "spiders")]',
  'imp_d$H0 <- nelsonaalen(imp_d, time, event)',
  'for (v in c("ascites", "hepato", "spiders")) imp_d[[v]] <- factor(imp_d[[v]], levels = c(0, 1))',
  'meth <- make.method(imp_d); meth[] <- ""; meth[c("ascites", "hepato", "spiders")] <- "logreg"; meth["lprotime"] <- "pmm"',
  'pred <- make.predictorMatrix(imp_d); pred[, "time"] <- 0',
  sprintf('imp <- mice(imp_d, m = %d, maxit = %d, method = meth, predictorMatrix = pred, seed = %d, printFlag = FALSE)',
          M, MAXIT, SEED)))
t0 <- proc.time()[["elapsed"]]
fit_txt <- c(
  'fits <- lapply(seq_len(imp$m), function(i) { d <- complete(imp, i); for (v in c("ascites", "hepato", "spiders")) d[[v]] <- as.integer(as.character(d[[v]])); coxph(FORMULA, data = d, ties = "breslow") })',
  'pooled <- pool(as.mira(fits))')
FORMULA_OBJ <- as.formula(FORMULA)
for (l in fit_txt) eval(parse(text = sub("FORMULA", "FORMULA_OBJ", l)), envir = globalenv())
elapsed <- proc.time()[["elapsed"]] - t0
fit_txt[1] <- sub("FORMULA", FORMULA, fit_txt[1])

ps <- summary(pooled)
pp <- pooled$pooled
# Rubin's rules by hand: Qbar, W (within), B (between), T = W + (1 + 1/m) B
Q <- sapply(fits, coef); U <- sapply(fits, function(f) diag(vcov(f)))
qbar <- rowMeans(Q); W <- rowMeans(U); B <- apply(Q, 1, var); Tvar <- W + (1 + 1 / M) * B
stopifnot(max(abs(qbar - pp$estimate)) < 1e-10, max(abs(sqrt(Tvar) - ps$std.error)) < 1e-10)

mi_terms <- lapply(seq_len(nrow(pp)), function(i) list(
  term = as.character(pp$term[i]), coef = pp$estimate[i], se = ps$std.error[i],
  within_var = pp$ubar[i], between_var = pp$b[i], total_var = pp$t[i], df = pp$df[i],
  riv = pp$riv[i], lambda = pp$lambda[i], fmi = pp$fmi[i], p = ps$p.value[i]))
imputed_prevalence <- lapply(c("ascites", "hepato", "spiders"), function(v) {
  vals <- as.matrix(imp$imp[[v]]) == "1"
  list(variable = v, n_imputed = nrow(vals), mean_imputed_prevalence = mean(vals),
       observed_prevalence = mean(pbc_d[[v]], na.rm = TRUE))
})

write_reference("pbc_mice", list(
  description = "pbc death (status == 2): complete-case coxph Breslow and mice multiple imputation (m = 50) pooled by Rubin's rules",
  datasets = list(dataset_entry("pbc", "all 418 (MI); complete cases 312 (trial patients)", nrow(pbc_d),
                                "R survival 3.5 `pbc`")),
  data_preparation = c(prep, imp_prep, fit_txt),
  calls = c(cc$calls, fit_txt),
  coding = list(
    time = "days from registration", event = "status == 2 (death); status 1 (transplant) and 0 censored",
    age = "years", edema = "numeric 0 / 0.5 / 1 as shipped (no edema / untreated or resolved / despite diuretics)",
    lbili = "log(bili), serum bilirubin mg/dl", lalbumin = "log(albumin), g/dl",
    lprotime = "log(protime), seconds", ascites = "0/1", hepato = "0/1 hepatomegaly",
    spiders = "0/1 spider angiomata"),
  model_terms = MODEL_VARS,
  na_counts = na_counts,
  imputation_model = list(
    m = M, maxit = MAXIT, seed = SEED,
    method = as.list(imp$method),
    predictor_matrix = lapply(split(imp$predictorMatrix, rownames(imp$predictorMatrix)), function(r) {
      setNames(as.list(r), colnames(imp$predictorMatrix)) })[rownames(imp$predictorMatrix)],
    visit_sequence = imp$visitSequence,
    notes = paste("Imputed variables: ascites, hepato, spiders (logreg, as factors 0/1) and",
                  "lprotime (pmm, imputed on the log scale). Predictors of every imputed",
                  "variable: all other columns of imp_d except time, i.e. age, edema, lbili,",
                  "lalbumin, lprotime, the three binaries, the event indicator and the",
                  "Nelson-Aalen H0(time) (mice::nelsonaalen, White & Royston 2009)."),
    imputed_prevalence = imputed_prevalence, elapsed_seconds = elapsed),
  seed = SEED,
  results = list(complete_case = cc$results$complete_case,
                 multiple_imputation = list(n = nrow(pbc_d), n_events = sum(pbc_d$event),
                                            pooled = mi_terms))),
  c("survival", "mice", "jsonlite"))
