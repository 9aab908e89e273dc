/**
 * State compatibility only. Pulumi state written by kvmshare up to 0.1.x serialized a provider
 * that loads `kvmshare/dist/core/providerImpl` (or `core/providerImpl.ts` in a checkout); the
 * implementation now lives above the areas in `provider/`. This file re-exports it and holds
 * nothing else; it is the one module of `core/` allowed to name a layer above (see
 * test/unit/importCycles.test.ts, STATE_SHIMS). Do not import it from new code.
 */
export * from "../provider/providerImpl";
