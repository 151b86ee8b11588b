using CostModel.Simulation;

return ReportRunner.Run(args, Console.Out, Console.Error);
