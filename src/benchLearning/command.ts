/** `reflect-server bench <name>`: only `learning` so far. Bad options exit 2 with the help. */
import { benchLearningCli, LEARNING_HELP } from './index.js';

const USAGE = `Usage: reflect-server bench learning [options]\n\nLearning benchmark: drives a server over HTTP as an SDK agent would and compares\nranking arms (similarity only, blends, gates, server defaults, oracle) and review arms\n(no reviews, the server's LLM judge, the judge with a share of runs corrected by humans).\n\n${LEARNING_HELP.replace(/^/gm, '  ')}\n`;

export async function benchCommand(argv: string[]): Promise<number> {
  if (argv[0] !== 'learning' || argv.includes('--help') || argv.includes('-h')) {
    (argv[0] === 'learning' ? process.stdout : process.stderr).write(USAGE);
    return argv[0] === 'learning' ? 0 : 2;
  }
  try {
    return await benchLearningCli(argv.slice(1));
  } catch (error) {
    const message = (error as Error).message;
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') || /^(--|Unknown )/.test(message)) {
      process.stderr.write(`${message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}
