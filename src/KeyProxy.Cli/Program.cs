// keyproxy: the operator's command line on a silo's admin API (README, "Operator CLI").
return await KeyProxy.Cli.KeyProxyCli.RunAsync(args, Console.Out, Console.Error, Environment.GetEnvironmentVariable);
