// Every registered scenario: importing this module registers them.

export * from "./lost_update";
