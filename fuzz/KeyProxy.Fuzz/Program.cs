return KeyProxy.Fuzz.FuzzCommand.Run(args);
