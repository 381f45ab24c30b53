// Where the widget's code is found once per page: the RunView module widget (one per kernel, and
// one in a notebook saved with its widget state) registers it here when its model is made; each
// run's widget carries only the small loader (loader.js) that waits for it. So the 400 kB of
// code is sent, and saved, once rather than once per run.
export const SHARED_KEY = "__oairunRunView_1";
