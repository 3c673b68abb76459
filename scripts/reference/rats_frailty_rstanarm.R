# rats_frailty_rstanarm.R -- shared-frailty references on the litter-matched rats data.
#
# Writes tests/reference/rats_frailty_rstanarm.json: female rats only (the classic analysis;
# R's ?rats: "only 2/150 of the male rats have a tumor, most analyses use only females"):
# 150 rats in 50 litters, 40 tumours. rstanarm stan_glmer Poisson PEM on survSplit rows with
# a Normal random intercept per litter (= log-normal shared frailty), log baseline rates ~
# Normal(log crude rate, 10), rx ~ Normal(0, 1) or Normal(0, 10), and
# prior_covariance = decov(regularization = 1, concentration = 1, shape = 1, scale = 1),
# which for a single random intercept is SD ~ Gamma(shape 1, scale 1) = Exponential(1)
# (verified, see `priors$litter_sd` in the JSON). For information also coxph with a
# gaussian and a gamma frailty (penalised partial likelihood), and coxph without frailty.
# Used by issue 17 (frailty: coefficients within 0.2 SD, frailty SD mean within 15%).
#
# Data: tests/datasets/rats.csv (R survival 3.5 `rats`, Mantel, Bohidar & Ciminera 1977;
# time units as in R, which does not state them).
# Sources: rstanarm 2.21 stan_glmer and ?priors / vignette("glmer") (decov);
# survival 3.5 coxph frailty() (Therneau, Grambsch & Pankratz 2003).
#
# Usage:  Rscript scripts/reference/rats_frailty_rstanarm.R   (from the repository root; ~5 min)

SCRIPT <- "scripts/reference/rats_frailty_rstanarm.R"
source("scripts/reference/common.R")
suppressPackageStartupMessages(library(rstanarm))

prep <- prepare(c('rats_d <- read.csv("tests/datasets/rats.csv", stringsAsFactors = FALSE)',
                  'rats_f <- subset(rats_d, sex == "f")'))
stopifnot(nrow(rats_f) == 150, sum(rats_f$status) == 40, length(unique(rats_f$litter)) == 50)
CUTS <- quantile_cuts(rats_f$time[rats_f$status == 1], 5)
prep <- c(prep, prepare(c(
  sprintf(paste0('vs <- survSplit(Surv(time, status) ~ ., data = rats_f, cut = c(%s), ',
                 'start = "tstart", end = "tstop", event = "event", episode = "interval")'),
          paste(CUTS, collapse = ", ")),
  "vs$exposure <- vs$tstop - vs$tstart")))

SIGMA <- "Sigma[litter:(Intercept),(Intercept)]"
summarise_frailty <- function(fit) {
  v <- as.array(fit, pars = SIGMA)
  sd_draws <- sqrt(v)
  dimnames(sd_draws)[[3]] <- "litter_sd"
  m <- rstan::monitor(sd_draws, warmup = 0, print = FALSE)
  q <- quantile(as.vector(sd_draws), c(0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95))
  list(litter_sd = list(mean = m["litter_sd", "mean"], sd = m["litter_sd", "sd"],
                        mcse_mean = m["litter_sd", "se_mean"], mcse_sd = m["litter_sd", "MCSE_SD"],
                        q2.5 = m["litter_sd", "2.5%"], q97.5 = m["litter_sd", "97.5%"],
                        quantiles = as.list(setNames(unname(q), names(q))),
                        ess_bulk = m["litter_sd", "Bulk_ESS"], ess_tail = m["litter_sd", "Tail_ESS"],
                        rhat = m["litter_sd", "Rhat"]),
       litter_variance = stan_results(fit, SIGMA)[[1]])
}

decov_statement <- paste(
  "rstanarm ?priors (section 'Covariance matrices'): 'we utilize a Gamma distribution, whose",
  "shape and scale are both 1 by default, implying a unit-exponential distribution' [for the",
  "scale parameter tau]; 'A one-by-one covariance matrix is just a variance and thus does not",
  "have regularization or concentration parameters, but does have shape and scale parameters",
  "for the prior standard deviation of that variable.' vignette('glmer', package = 'rstanarm'):",
  "'In the case where Sigma is 1x1, tau is the cross-group standard deviation in the parameters",
  "and its square is the variance (so the Gamma prior with its shape and scale directly applies",
  "to the cross-group standard deviation in the parameters).' Stan source (rstanarm 2.21",
  "count.stan / common_functions.stan): theta_L = tau * scale * dispersion with dispersion = 1",
  "for poisson, and target += gamma_lpdf(tau | shape, 1). Hence SD_litter = tau * scale with",
  "tau ~ Gamma(shape = 1, rate = 1): SD_litter ~ Exponential(rate 1) (mean 1) with scale = 1.")

glmer_extra <- list(
  call_extra = paste0(", prior_covariance = decov(regularization = 1, concentration = 1, ",
                      "shape = 1, scale = 1), adapt_delta = 0.99"),
  summarise = summarise_frailty,
  prior_text = list(
    litter_sd = "Exponential(rate 1) on the SD of the litter random intercept (decov(1, 1, 1, 1) with a 1x1 covariance)",
    litter_sd_verification = decov_statement,
    random_effect = "b_litter ~ Normal(0, SD_litter^2), i.e. log-frailty Normal(0, SD); no fixed intercept, so the interval terms carry the baseline"))

# penalised-likelihood frailty fits, for information
frailty_cox <- function(txt) {
  r <- run_call(txt, globalenv())
  f <- r$value
  th <- if (length(f$history)) f$history[[1]]$theta else NA
  list(call = txt, rx = list(coef = unname(f$coefficients["rx"]),
                             se = unname(sqrt(f$var[1, 1])),
                             se2 = if (!is.null(f$var2)) unname(sqrt(f$var2[1, 1])) else NULL),
       frailty_variance = th, frailty_sd = if (is.na(th)) NULL else sqrt(th),
       loglik = unname(f$loglik))
}
cox_info <- list(
  gaussian_frailty = frailty_cox('coxph(Surv(time, status) ~ rx + frailty(litter, distribution = "gaussian"), data = rats_f, ties = "breslow")'),
  gamma_frailty = frailty_cox('coxph(Surv(time, status) ~ rx + frailty(litter, distribution = "gamma"), data = rats_f, ties = "breslow")'),
  no_frailty = frailty_cox('coxph(Surv(time, status) ~ rx, data = rats_f, ties = "breslow")'),
  no_frailty_robust_se = {
    f <- coxph(Surv(time, status) ~ rx + cluster(litter), data = rats_f, ties = "breslow")
    list(call = 'coxph(Surv(time, status) ~ rx + cluster(litter), data = rats_f, ties = "breslow")',
         rx = list(coef = unname(coef(f)), robust_se = unname(sqrt(f$var[1, 1])),
                   naive_se = unname(sqrt(f$naive.var[1, 1]))))
  })

run_pem_reference(
  "rats_frailty_rstanarm",
  "rstanarm stan_glmer Poisson PEM with a litter random intercept (log-normal shared frailty), female rats, two rx priors; coxph frailty fits for information",
  prep, list(dataset_entry("rats", "sex == \"f\" (150 rats, 50 litters, 40 tumours)", nrow(rats_f),
                           "R survival 3.5 `rats`")),
  CUTS, "round(quantile(time[status == 1], probs = (1:5)/6, type = 7)), unique (female rats)",
  "rx + (1 | litter)", "rx",
  list(time = "time to tumour or censoring (R `rats` units; not stated by R)",
       status = "1 = tumour", rx = "1 = drug, 0 = control", litter = "cluster (odd litter numbers 1..99 for females)",
       sex = "subset sex == \"f\"",
       interval = "survSplit episode k = 1..J: (cuts[k-1], cuts[k]] with cuts[0] = 0; the last is open",
       exposure = "tstop - tstart"),
  seeds = c(20261231L, 20261232L), glmer_extra = glmer_extra,
  extra_meta = list(cox_frailty_for_information = cox_info),
  # adapt_delta = 0.99 and 4 x 3000 post-warmup draws: at the defaults (0.95, iter = 2000) the
  # litter SD had bulk ESS ~500, Rhat 1.0125 and the vague fit 3 divergent transitions
  # (the usual funnel of a small random-effect SD near zero).
  iter = 4000)
