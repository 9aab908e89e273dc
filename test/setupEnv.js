// Provider progress logs go to stderr; keep test output readable unless KVMSHARE_VERBOSE=1.
if (process.env.KVMSHARE_VERBOSE !== "1") process.env.KVMSHARE_QUIET = "1";
