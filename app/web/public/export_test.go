package public

// ReloadBudget is publicLoadBudget, for the external tests.
const ReloadBudget = publicLoadBudget
