export * from "./thresholds";
export * from "./fioJob";
export * from "./fioParse";
export * from "./cpu";
export * from "./ping";
export * from "./report";
export * from "./run";
