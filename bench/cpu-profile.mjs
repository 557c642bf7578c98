// Loaded into a gateway with `--import` (NODE_OPTIONS) when the bench runs with --cpu-prof. Node refuses
// --cpu-prof in NODE_OPTIONS, and the services are started by scripts/stack.ts with fixed arguments, so the
// profile is taken through the inspector instead: the first SIGUSR2 starts the V8 sampling profiler, the second
// stops it and writes BENCH_CPU_PROFILE (a .cpuprofile for Chrome DevTools or speedscope). Plain JavaScript,
// as it runs before tsx is loaded.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { dirname } from 'node:path';

const file = process.env.BENCH_CPU_PROFILE;
if (file) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.start'));
      return;
    }
    running = false;
    session.post('Profiler.stop', (error, result) => {
      if (error) return console.error('cpu profile failed', error);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
      // Renamed when complete, so the bench never sees half a file.
      renameSync(`${file}.tmp`, file);
    });
  });
}
