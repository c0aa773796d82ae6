/** Steps to undo what a start did, run in reverse order, each failure logged and the rest still run. */
export class Cleanups {
  readonly #steps: Array<() => Promise<void>> = [];
  readonly #log: { error(object: object, message: string): void };

  constructor(log: { error(object: object, message: string): void }) {
    this.#log = log;
  }

  push(step: () => Promise<void>): void {
    this.#steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        this.#log.error({ err: error }, "shutdown step failed");
      }
    }
  }
}
